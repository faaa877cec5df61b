/**
 * Every error a request can end in becomes a Problem (spec §13), and only real server faults are
 * logged as errors: a client's mistake (4xx) is already visible in the "request completed" line
 * with its status, and logging it as an error would bury the faults an operator must see.
 */
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DomainError, HttpProblem, ValidationError } from '../errors.ts';
import { isDataException, problemFor, sendProblem } from './problem.ts';
import { newTraceId } from './traceId.ts';

/** Fastify's error handler, also used for its router errors (`frameworkErrors`: bad URL, over-long parameter). */
export function handleError(error: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const { problem } = problemFor(error, request);
  if (isDataException(error)) request.log.warn({ err: error }, 'the database refused a value of the request');
  if (problem.status >= 500) {
    const deliberate = error instanceof DomainError || error instanceof HttpProblem || error instanceof ValidationError;
    // A deliberate 5xx (e.g. 6280 "try again later") is an answer, not a fault: no stack needed.
    if (deliberate) request.log.warn({ status: problem.status, title: problem.title }, 'request answered with a server error');
    else request.log.error({ err: error }, 'request failed');
  }
  return sendProblem(reply, error);
}

/**
 * Requests Node's HTTP parser refuses before Fastify sees them (oversized or malformed headers):
 * answered with a Problem too, written straight to the socket as there is no request object.
 */
export function answerClientError(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed || !socket.writable) return;
  const status = error.code === 'HPE_HEADER_OVERFLOW' ? 431 : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
  const title = STATUS_CODES[status] ?? 'Bad Request';
  const body = JSON.stringify({
    type: `https://httpstatuses.io/${status}`,
    title,
    status,
    detail: status === 431 ? 'The request headers are larger than the server accepts.' : 'The request is not valid HTTP.',
    instance: '/',
    traceId: newTraceId(),
  });
  socket.end(
    `HTTP/1.1 ${status} ${title}\r\nContent-Type: application/problem+json; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
