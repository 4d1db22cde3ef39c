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
      await this.flush();
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
    await this.flush();
    await condition(() => this.control.decisionSeq > this.consumedDecision || this.control.aborting);
    if (this.control.aborting) return 'abort';
    this.consumedDecision = this.control.decisionSeq;
    return this.control.decision === 'skip' ? 'skip' : 'retry';
  }

  /**
   * Report progress to the run without waiting for the signal's round trip (it overlaps the
   * next step's activities); reports stay in order, and `flush()` awaits the last one.
   */
  report(r: ChildReport): Promise<void> {
    const parent = this.parentId;
    if (!parent) return Promise.resolve();
    // A lost report is harmless (the next one carries the newer state); never fail the child for it.
    this.sending = this.sending.then(() => getExternalWorkflowHandle(parent).signal(childReportSignal, r)).catch(() => undefined);
    return Promise.resolve();
  }

  /** Wait for every report sent so far (before returning or continuing as new). */
  flush(): Promise<void> {
    return this.sending;
  }

  private sending: Promise<void> = Promise.resolve();
}

export function parentId(): string | undefined {
  return workflowInfo().parent?.workflowId;
}
