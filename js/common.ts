/** What both entry points (Node and browser) export besides their own `createEngine`. */
export * from './errors.js';
export { Engine } from './engine.js';
export type { Callback, CallbackContext, EngineEvent, EngineLimits, EngineOptions, OpHandler, OpRequest, RunOptions } from './engine.js';
export { VirtualClock, realClock } from './clock.js';
export type { HostClock } from './clock.js';
export { runPrompt } from './prompt/run-prompt.js';
export type { PolicyEvent, PromptConfig, PromptOptions, PromptPlugin, PromptRunInfo, PromptStep } from './prompt/run-prompt.js';
export { CircuitBreakerHandle } from './prompt/resilience.js';
export type {
  AlternativeConfig, CascadeConfig, CircuitBreakerConfig, ConstraintTotals, ConstraintType, CostConstraintConfig, DefaultValueConfig,
  DurationConstraintConfig, FallbackStrategy, RateConstraintConfig, RetryConfig, TokenConstraintConfig,
} from './prompt/resilience.js';
export { PromptContext, tool, agent } from './prompt/context.js';
export type { AgentOptions, CallPolicyOptions, Hook, HookInput, HookResult, ToolContext, ToolExecute, ToolOptions } from './prompt/context.js';
export { RunResult } from './prompt/result.js';
export type { StepResult, StreamPart, ToolCall, ToolResult } from './prompt/result.js';
export type { Reference } from './prompt/names.js';
export type {
  ApprovalAction, ApprovalConfig, ApprovalDecision, ApprovalDesk, ApprovalHandler, ApprovalRequest, ApprovalResult,
  GuardCondition, GuardConfig, GuardVerdict, HumanToolOptions, InteractionConfig, InteractionHandler, InteractionRequest,
  InteractionResult, ResponseValidation, ValidatorFn, ValidatorResult,
} from './prompt/human.js';
export type { HumanEvent } from './prompt/result.js';
export { mockModel, isLanguageModel } from './mock-model.js';
export type { MockItem, MockModelOptions, MockLanguageModel } from './mock-model.js';
export { createOpenAI, createOpenAICompatible, createAnthropic, resolveModel, knownProviders } from './providers/index.js';
export type { LanguageModel, Message, ModelRequest, ModelResponse, Part, StreamDelta, Usage, FinishReason } from './providers/types.js';
export { toJsonSchema, isZodSchema } from './schema.js';
export { validate } from './validate.js';
export type { ValidationIssue, ValidationOutcome } from './validate.js';
export { L, run, AssistantMessage, ConversationMessage, Mark, MarkRange, Tag, Directive, AppendDirective, ModelHandle, ToolHandle, DirectiveRequest } from './directive/index.js';
export type { AgentLike, CatchResult, MessageFilter, ReplyStream, ToolCallContext, ToolImpl, DirectiveRunPromise, RunConfig, RunTool, Role, RunEvent, RunEventType } from './directive/index.js';
