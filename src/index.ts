export { ProfilingSpanProcessor } from './processor';
export type { ProfilingSpanProcessorOptions } from './processor-options';
export type { ProcessorStats, DropReason } from './processor-stats';
export { InMemoryProfileExporter } from './exporter/in-memory-profile-exporter';
export type { ProfileExporter } from './exporter/profile-exporter';
export type { BatchOptions, BatcherStats } from './exporter/profile-batcher';
export type { SpanProfile, ProfileSample, ProfileStack, ProfileFrame, ProfileResource } from './profile/span-profile';
