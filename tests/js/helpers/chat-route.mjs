// A chat route over loopback HTTP as a server would mount it, and one turn of `useChat` against it
// with the AI SDK's own client (`DefaultChatTransport` posts, `readUIMessageStream` builds the
// assistant message the chat shows).
import { createServer } from 'node:http';
import { DefaultChatTransport, readUIMessageStream } from 'ai';

/** Starts a route that hands each request's UI messages and its response to `handle`; resolves with its URL and `close`. */
export async function startChatRoute(handle) {
  const server = createServer(async (req, res) => {
    let body = '';
    for await (const chunk of req) body += chunk;
    await handle(JSON.parse(body).messages, res);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { api: `http://127.0.0.1:${server.address().port}/api/chat`, close: () => new Promise((resolve) => server.close(resolve)) };
}

/** One turn of a chat as useChat does it: the transport's chunks, read into the assistant message. */
export async function chatTurn(api, messages) {
  const transport = new DefaultChatTransport({ api });
  const stream = await transport.sendMessages({ chatId: 'chat-1', messages, trigger: 'submit-message', messageId: undefined, abortSignal: undefined });
  let last;
  for await (const message of readUIMessageStream({ stream, terminateOnError: false })) last = message;
  return last;
}

/** A user's UI message. */
export const userMessage = (id, text) => ({ id, role: 'user', parts: [{ type: 'text', text }] });
