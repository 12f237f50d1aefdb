/** Liminal-style directive agents: `L` and `run` (docs/directive-agents.md). */
import { L as directives } from './directives.js';
import { run } from './driver.js';

/** The directives (see {@link directives}) plus `L.run`, the same function as {@link run}. */
export const L = { ...directives, run };
export { Directive, AppendDirective, ModelHandle, ToolHandle, DirectiveRequest, MemoryDirectives, GraphMemoryDirectives } from './directives.js';
export type { AgentLike, BranchAggregation, BranchOptions, BranchValues, BranchWinner, BranchWinnerOf, CatchResult, MemoryOperation, MessageFilter, ReplyStream, ToolCallContext, ToolImpl } from './directives.js';
export { run };
export type { DirectiveRunPromise, DirectiveStep, DirectiveStepChanges, RunConfig, RunTool } from './driver.js';
export { AssistantMessage, ConversationMessage, Mark, MarkRange, Tag } from './messages.js';
export type { Role } from './messages.js';
export type { RunEvent, RunEventType } from './events.js';
