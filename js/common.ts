/** What both entry points (Node and browser) export besides their own `createEngine`. */
export * from './errors.js';
export { Engine } from './engine.js';
export type { ArgsOf, Bivariant, DeepPartial, FromJsonSchema, Infer, InferInput, InputArgsOf, JsonObject, JsonPrimitive, JsonValue } from './schema-types.js';
export type { Callback, CallbackContext, CallbackTraits, EngineEvent, EngineLimits, EngineOptions, OpHandler, OpRequest, RequestOptions, RunOptions } from './engine.js';
export { VirtualClock, realClock } from './clock.js';
export { configureDefaultEngine } from './default-engine.js';
export { preload } from './preload.js';
export type { PreloadOptions } from './preload.js';
export type { HostClock } from './clock.js';
export { runPrompt } from './prompt/run-prompt.js';
export { resume, replay, loadJournal, deleteJournal } from './durable/api.js';
export type { ResumeConfig, ResumeRunConfig } from './durable/api.js';
export type { DurableOptions, ResumeDurableOptions } from './durable/durable.js';
export { durableApprovals } from './durable/approvals.js';
export type { DurableApprovals, PendingDurableApproval } from './durable/approvals.js';
export type { LeaseOptions } from './durable/lease.js';
export type { Journal, JournalRecord, RecordedAsk, RecordedOp } from './durable/journal.js';
export type { InterruptedCall, InterruptedHandler } from './durable/session.js';
export type { ObjectOf, PartialOf, PolicyEvent, PromptConfig, PromptOptions, PromptPlugin, PromptRun, PromptRunInfo, PromptStep, ResponseValidation } from './prompt/run-prompt.js';
export type { RunPolicyConfig } from './run/run-config.js';
export { CircuitBreakerHandle } from './run/policy-handles.js';
export type { ConstraintTotals } from './run/policy-handles.js';
export { DefinitionContext } from './definitions/context.js';
export type {
  AlternativeConfig, CascadeConfig, CircuitBreakerConfig, ConstraintType, CostConstraintConfig, DefaultValueConfig,
  DurationConstraintConfig, FallbackStrategy, RateConstraintConfig, RetryConfig, TokenConstraintConfig,
} from './definitions/resilience.js';
export type {
  ApprovalAction, ApprovalConfig, GuardCondition, GuardConfig, GuardContext, GuardVerdict, InteractionConfig, ValidatorFn, ValidatorResult,
} from './definitions/human.js';
export type { IdempotenceOption, ToolPolicyOptions } from './definitions/tool-options.js';
export type { RoleConfig, RoleConstraints } from './definitions/role.js';
export type { InterceptedToolCall, ModelInterceptor, PluginApi, PluginMethod, ToolInterceptor } from './prompt/plugins.js';
export type { TemplateRef, TemplateValue, TemplateValueOf, TemplateValues, TemplateVariable, TemplateVariables } from './definitions/template.js';
export type { PendingResource, ResourceConfig, ResourcePoolConfig, Resources } from './definitions/resource.js';
export type { WorkflowConfig, WorkflowContext, WorkflowResult, WorkflowStep, WorkflowStepError, WorkflowToolConfig } from './definitions/workflow.js';
export type { PipelineStage, PipelineStageContext } from './definitions/pipeline.js';
export type { Judge, JudgeModel, ParallelAggregation, ParallelOptions, ParallelTask, ParallelTaskContext } from './definitions/parallel.js';
export type { BatcherConfig } from './definitions/batcher.js';
export type {
  ApprovalDecision, ApprovalDesk, ApprovalHandler, ApprovalRequest, ApprovalResult, HumanHandlers, InteractionDesk, InteractionHandler,
  InteractionRequest, InteractionResult, TerminalApprover,
} from './run/human-host.js';
export type * from './run/events.js';
export { PromptContext, tool, agent } from './prompt/context.js';
export type {
  AgentConfigure, AgentOptions, CallPolicyOptions, Hook, HookInput, HookResult, PromptPluginObject, SubAgent, SubTool, ToolContext, ToolExecute, ToolOptions,
} from './prompt/context.js';
export { RunResult } from './prompt/result.js';
export type { ResponseInfo, StepResponse, StepResult, StreamPart, ToolCall, ToolResult, ToolResultOf, TypedToolCall } from './prompt/result.js';
export { hasToolCall, isLoopFinished, isStepCount, stepCountIs } from './prompt/stop-conditions.js';
export { Output } from './prompt/output.js';
export type { OutputNaming, OutputSpec } from './prompt/output.js';
export type { PromptTool } from './prompt/context.js';
export type { StopCondition, StopConditionInput } from './prompt/stop-conditions.js';
export type { PromptCallbacks, PromptFinish } from './prompt/finish-callbacks.js';
export type { ServerResponseLike, TextStreamResponseInit } from './prompt/text-response.js';
export { fromUIMessages } from './prompt/ui-messages.js';
export type { UIMessageChunk, UIMessageChunkStream, UIMessageLike, UIMessageStreamFinish, UIMessageStreamOptions, UIMessageStreamResponseInit } from './prompt/ui-messages.js';
export type { ProviderMetadata } from './prompt/provider-metadata.js';
export type { IdentifiedUIMessage } from './prompt/ui-message-builder.js';
export type { Reference } from './prompt/names.js';
export { mockModel, isLanguageModel } from './mock-model.js';
export type { MockItem, MockModelOptions, MockLanguageModel } from './mock-model.js';
export { createOpenAI, createOpenAICompatible, createAnthropic, resolveModel, knownProviders } from './providers/index.js';
export type { CallWarning, LanguageModel, Message, ModelRequest, ModelResponse, Part, ProviderOptions, StreamDelta, Usage, FinishReason } from './providers/types.js';
export type { RepairToolCall, ToolCallRepair, ToolCallRepairError, ToolCallRepairInput } from './run/repair-tool-call.js';
export type { TimeoutConfiguration } from './run/timeouts.js';
export type { TelemetryOption, TelemetrySettings } from './observe/telemetry-option.js';
export type { CallWatchers, ExecutedToolCall, LanguageModelCallEndEvent, OutputChunkTimingStats, LanguageModelCallStartEvent, ModelCallCallbacks, ToolExecutionCallbacks, ToolExecutionEndEvent, ToolExecutionOutput, ToolExecutionStartEvent } from './run/call-watchers.js';
export type { OnStartEvent, OnStepErrorEvent, OnStepStartEvent, StartedRequest, StepStartCallbacks } from './run/step-callbacks.js';
export type { ChunkCallback, ChunkPart } from './prompt/on-chunk.js';
export type { StreamTransform, StreamTransformConfig, StreamTransformOptions } from './prompt/stream-transforms.js';
export { smoothStream } from './prompt/smooth-stream.js';
export { createSteering, createSteering as experimental_createSteering } from './prompt/steering.js';
export type { Steering, SteeringMessage, SteeringNotDeliveredReason, SteeringOutcome } from './prompt/steering.js';
export type { ChunkDetector, SegmenterLike, SmoothStreamOptions } from './prompt/smooth-stream.js';
export type { PrepareStep, RunContextOptions } from './prompt/run-contexts.js';
export type { SingleToolApproval, ToolApprovalConfiguration, ToolApprovalRequestCall, ToolApprovalStatus } from './prompt/tool-approval.js';
export type { StepCallSettings } from './run/step-changes.js';
export { createGoogle, openai, anthropic, google, resolveEmbeddingModel, DEFAULT_IDLE_TIMEOUT_MS } from './providers/index.js';
export type {
  EmbeddingModel, EmbeddingModelOptions, EmbedOptions, EmbedRequest, EmbedResult, ImagePart, ModelOptions, ReasoningBlockEnd, ReasoningOptions, ReasoningPart,
  TextBlockEnd, TextPart, ToolCallPart, ToolResultPart, SignatureSource, OpenAIProvider, OpenAIResponsesOptions, AnthropicProvider, AnthropicModelOptions,
  AnthropicCacheOptions, GoogleProvider, ProviderSettings,
} from './providers/index.js';
export { toJsonSchema, isZodSchema } from './schema.js';
export { validate } from './validate.js';
export type { ValidationIssue, ValidationOutcome } from './validate.js';
export { L, run, AssistantMessage, ConversationMessage, Mark, MarkRange, Tag, Directive, AppendDirective, ModelHandle, ToolHandle, DirectiveRequest, MemoryDirectives, GraphMemoryDirectives } from './directive/index.js';
export type { AgentLike, BranchAggregation, BranchOptions, BranchValues, BranchWinner, BranchWinnerOf, CatchResult, MemoryOperation, MessageFilter, ReplyStream, ToolCallContext, ToolImpl, DirectiveRunPromise, DirectiveStep, DirectiveStepChanges, RunConfig, RunTool, Role } from './directive/index.js';
export * from './storage/index.js';
// memory (docs/memory.md)
export { GraphMemoryHandle, MemoryHandle } from './definitions/memory.js';
export type {
  GraphEntity, GraphEntityInput, GraphExtractInput, GraphExtraction, GraphNeighborhood, GraphRelation, GraphSearchOptions, GraphStoreInput, GraphStoreResult, GraphWalkOptions,
  MemoryConfig, MemoryInput, MemorySearchOptions, MemorySearchResult, MemorySummaryStep, MemoryType, StoreResult,
} from './definitions/memory.js';
export { offlineEmbedding } from './memory/offline-embedding.js';
export { countTokens } from './tokens/count-tokens.js';
export type { TokenCount, TokenCountModel } from './tokens/count-tokens.js';
export type { OfflineEmbeddingOptions } from './memory/offline-embedding.js';
export type { ContextConfig, ContextStrategy } from './definitions/context-window.js';
// observability (docs/observability.md)
export { Redactor, REDACTED } from './observe/redact.js';
export type { Logger, LoggerConfig, LogLevel, LogOutput, LogOutputFunction, LogRecord } from './observe/logger.js';
export type { CustomEvent, EventHandler, EventOptions, LifecycleEvent, LifecycleEventName } from './observe/lifecycle.js';
export { metricsText, readMetrics, METRICS_CONTENT_TYPE } from './observe/metrics.js';
export type { MetricConfig, MetricSnapshot, MetricsSnapshot, MetricType } from './observe/metrics.js';
export type { SpanExporterLike, ToolTrace, TracingConfig, TracingExporterName } from './observe/tracing.js';
export type { HumanInterventionEvent } from './observe/intervention.js';
export type { Progress, ProgressListener } from './observe/progress.js';
