/**
 * A TEST DOUBLE of a judge model: a judge LLM (e.g. Qwen2.5-1.5B-Instruct behind vLLM)
 * cannot run on this machine, so this node:http server speaks the OpenAI chat-completions
 * protocol and answers by rule, while the real `openai` client and LlmJudge run unchanged.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ChatRequest {
  model: string;
  temperature?: number;
  messages: Array<{ role: string; content: string }>;
}

/** Behaviour per request: reply content, an HTTP status, or a delay. */
export type Reply = { content: string } | { status: number } | { delayMs: number; content: string };

/** A fake OpenAI-compatible chat-completions server (test double of a judge model). */
export class FakeJudgeServer {
  readonly requests: Array<{ body: ChatRequest; auth: string | undefined }> = [];
  inFlight = 0;
  maxInFlight = 0;
  private server!: http.Server;
  constructor(private readonly reply: (req: ChatRequest, n: number) => Reply) {}

  async start(): Promise<string> {
    this.server = http.createServer((req, res) => {
      let data = '';
      req.on('data', (c: Buffer) => (data += c.toString()));
      req.on('end', () => {
        const body = JSON.parse(data) as ChatRequest;
        this.requests.push({ body, auth: req.headers.authorization });
        this.inFlight++;
        this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
        const r = this.reply(body, this.requests.length);
        const send = (): void => {
          this.inFlight--;
          if ('status' in r) {
            res.writeHead(r.status, { 'content-type': 'application/json' });
            res.end(JSON.stringify({ error: { message: `status ${r.status}`, type: 'test' } }));
            return;
          }
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({
            id: `chatcmpl-${this.requests.length}`, object: 'chat.completion', created: 0, model: body.model,
            choices: [{ index: 0, message: { role: 'assistant', content: r.content }, finish_reason: 'stop' }],
            usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
          }));
        };
        if ('delayMs' in r) setTimeout(send, r.delayMs);
        else setTimeout(send, 5);
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** Says YES when the two answers are equal ignoring case and spaces, else NO. */
export const equalityJudge = (req: ChatRequest): Reply => {
  const user = req.messages.find((m) => m.role === 'user')!.content;
  const a1 = /Answer 1: (.*)/.exec(user)![1].replace(/\s/g, '').toLowerCase();
  const a2 = /Answer 2: (.*)/.exec(user)![1].replace(/\s/g, '').toLowerCase();
  return { content: `They ${a1 === a2 ? 'match' : 'differ'}.\n${a1 === a2 ? '[[YES]]' : '[[NO]]'}` };
};
