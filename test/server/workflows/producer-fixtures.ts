/**
 * Schedules and triggers over real sockets: the embedded server with a ManualClock, frames built by
 * `src/protocol`. Workflows used here wait for a signal, so their runs stay non-terminal until
 * signalled (what `max_concurrent` counts).
 */
import {
  Op,
  decodeWorkflowHistoryReply,
  decodeWorkflowListRunsReply,
  decodeWorkflowStatusReply,
  encodeStreamAppend,
  encodeWorkflowCancel,
  encodeWorkflowCreate,
  encodeWorkflowDisable,
  encodeWorkflowEnable,
  encodeWorkflowHistory,
  encodeWorkflowListRuns,
  encodeWorkflowStatus,
  fromUtf8,
  utf8,
  type DecodedResponse,
} from '../../../src/protocol/index.js';
import { okBody, SocketClient, startIntegration, type Integration } from '../integration/harness.js';

export const NS = 'test';

/** A workflow whose runs wait for the signal `go`, plus the given top-level YAML. */
export function waitingWorkflow(name: string, extra: string): string {
  return `kind: Workflow\nname: ${name}\nversion: "1"\n${extra}start:\n  waitForSignal: { type: go }\n  transitions: { go: flo.Completed }\n`;
}

export interface ProducerRun {
  readonly runId: string;
  readonly status: string;
  readonly input: string;
  readonly version: string;
  readonly firstEvent: string;
}

export async function startProducers() {
  const it: Integration = await startIntegration();
  const client = await SocketClient.tcp(it.server.port);
  const f = {
    it,
    client,
    create: (name: string, yaml: string, ns = NS): Promise<DecodedResponse> => client.request(Op.WorkflowCreate, encodeWorkflowCreate({ name, definition: yaml }), ns),
    async createOk(name: string, yaml: string, ns = NS) {
      okBody(await f.create(name, yaml, ns));
    },
    async disable(name: string, ns = NS) {
      okBody(await client.request(Op.WorkflowDisable, encodeWorkflowDisable({ name }), ns));
    },
    async enable(name: string, ns = NS) {
      okBody(await client.request(Op.WorkflowEnable, encodeWorkflowEnable({ name }), ns));
    },
    async cancel(runId: string, ns = NS) {
      okBody(await client.request(Op.WorkflowCancel, encodeWorkflowCancel({ runId }), ns));
    },
    async append(stream: string, payload: string, ns = NS) {
      okBody(await client.request(Op.StreamAppend, encodeStreamAppend({ stream, payload: utf8(payload) }), ns));
    },
    /** Runs of a workflow, oldest first, with their input, version and first history event. */
    async runs(workflow: string, ns = NS): Promise<ProducerRun[]> {
      const list = decodeWorkflowListRunsReply(okBody(await client.request(Op.WorkflowListRuns, encodeWorkflowListRuns({ workflow, limit: 1000 }), ns)));
      const out: ProducerRun[] = [];
      for (const r of [...list.runs].reverse()) {
        const st = decodeWorkflowStatusReply(okBody(await client.request(Op.WorkflowStatus, encodeWorkflowStatus({ runId: r.runId }), ns)));
        const hist = decodeWorkflowHistoryReply(okBody(await client.request(Op.WorkflowHistory, encodeWorkflowHistory({ runId: r.runId }), ns)));
        out.push({ runId: r.runId, status: r.status, input: fromUtf8(st.input), version: st.version, firstEvent: `${hist.events[0]?.type}:${hist.events[0]?.detail}` });
      }
      return out;
    },
    /** Moves the server clock and waits for a round trip. */
    async advance(ms: number) {
      it.clock.advance(ms);
      await client.barrier();
    },
    async close() {
      client.close();
      await it.server.close();
    },
  };
  return f;
}

export type Producers = Awaited<ReturnType<typeof startProducers>>;
