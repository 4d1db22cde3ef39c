/**
 * The child side of operator control: a stage/phase child receives the run's control state
 * by signal, reports progress to the run by signal, and waits at step boundaries while the
 * run is paused or blocked (architecture.md, invariant 5).
 */
import { condition, getExternalWorkflowHandle, setHandler, workflowInfo } from '@temporalio/workflow';
import { childReportSignal, controlSignal, type BlockedInfo, type ChildReport, type ControlState } from './contracts';

export type Gate = 'go' | 'abort' | 'skip';
export type Decision = 'retry' | 'skip' | 'abort';

export class ChildControl {
  private control: ControlState;

  constructor(initial: ControlState, private readonly parentId: string | undefined, private consumedDecision: number) {
    this.control = initial;
    setHandler(controlSignal, (c) => {
      this.control = c;
    });
  }

  get state(): ControlState {
    return this.control;
  }

  /** The last decision this child acted on (carried through continue-as-new). */
  get consumed(): number {
    return this.consumedDecision;
  }

  get learningRate(): number | null {
    return this.control.learningRate;
  }

  phaseSteps(phase: string, fallback: number): number {
    return this.control.phaseSteps[phase] ?? fallback;
  }

  private pendingSkip(): boolean {
    return this.control.decisionSeq > this.consumedDecision && this.control.decision === 'skip';
  }

  /** Before each step: wait while paused; say whether to go on, stop (abort) or skip the rest. */
  async gate(report: Omit<ChildReport, 'status'>): Promise<Gate> {
    if (this.control.paused && !this.control.aborting) {
      await this.report({ ...report, status: 'paused' });
      await condition(() => !this.control.paused || this.control.aborting || this.pendingSkip());
    }
    if (this.control.aborting) return 'abort';
    if (this.pendingSkip()) {
      this.consumedDecision = this.control.decisionSeq;
      return 'skip';
    }
    return 'go';
  }

  /** A step keeps failing: report `blocked` and wait for the operator's retryPhase, skipPhase or abort. */
  async block(report: Omit<ChildReport, 'status' | 'blocked'>, blocked: BlockedInfo): Promise<Decision> {
    await this.report({ ...report, status: 'blocked', blocked });
    await condition(() => this.control.decisionSeq > this.consumedDecision || this.control.aborting);
    if (this.control.aborting) return 'abort';
    this.consumedDecision = this.control.decisionSeq;
    return this.control.decision === 'skip' ? 'skip' : 'retry';
  }

  async report(r: ChildReport): Promise<void> {
    if (!this.parentId) return;
    await getExternalWorkflowHandle(this.parentId).signal(childReportSignal, r);
  }
}

export function parentId(): string | undefined {
  return workflowInfo().parent?.workflowId;
}
