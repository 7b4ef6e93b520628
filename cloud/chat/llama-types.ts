/**
 * The few node-llama-cpp calls the local backend makes, typed here because the package is
 * installed on demand outside the project's node_modules (local-backend.ts loads it by path).
 */
export declare const getLlama: (options: {
  gpu: false;
  build: 'never';
  progressLogs: boolean;
  logLevel: unknown;
}) => Promise<{
  loadModel(options: { modelPath: string }): Promise<any>;
}>;
export declare const LlamaLogLevel: { error: unknown };
export declare class LlamaChat {
  constructor(options: { contextSequence: unknown });
  generateResponse(
    history: unknown[],
    options: Record<string, unknown>,
  ): Promise<{ metadata: { stopReason: string } }>;
  dispose(options?: { disposeSequence?: boolean }): void;
}
