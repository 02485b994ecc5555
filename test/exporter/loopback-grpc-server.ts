import * as grpc from '@grpc/grpc-js';
import { GRPC_EXPORT_PATH } from '../../src/exporter/exporter-options';

export interface GrpcCall {
  readonly body: Buffer;
  readonly metadata: Record<string, unknown>;
}
export type GrpcAnswer = (call: GrpcCall) => { error?: Partial<grpc.StatusObject>; response?: Buffer };

/** A gRPC server on a free loopback port serving ProfilesService/Export with scripted answers. */
export class LoopbackGrpcServer {
  readonly calls: GrpcCall[] = [];
  private readonly _answers: GrpcAnswer[] = [];
  private _server: grpc.Server | undefined;
  address = '';

  /** Answers the next calls in order; once used up, answers OK with an empty response. */
  answer(...answers: GrpcAnswer[]): void {
    this._answers.push(...answers);
  }

  async start(): Promise<this> {
    const server = new grpc.Server();
    const identity = (b: Buffer): Buffer => b;
    server.addService(
      {
        export: {
          path: GRPC_EXPORT_PATH,
          requestStream: false,
          responseStream: false,
          requestSerialize: identity,
          requestDeserialize: identity,
          responseSerialize: identity,
          responseDeserialize: identity,
        },
      },
      {
        export: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
          const recorded = { body: call.request, metadata: call.metadata.getMap() };
          this.calls.push(recorded);
          const okay: GrpcAnswer = () => ({ response: Buffer.alloc(0) });
          const outcome = (this._answers.shift() ?? okay)(recorded);
          if (outcome.error) callback(outcome.error, null);
          else callback(null, outcome.response ?? Buffer.alloc(0));
        },
      },
    );
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
    );
    this._server = server;
    this.address = `127.0.0.1:${port}`;
    return this;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => (this._server ? this._server.tryShutdown(() => resolve()) : resolve()));
  }
}
