import { HEADERS } from '@pilot/contracts';
import { type Logger, requestIdFrom } from '@pilot/service-kit';
import { pinoHttp } from 'pino-http';

/**
 * pino-http request logs: one line per answered request, with a request id that honours a
 * well-formed incoming X-Request-Id (else a fresh UUID) and is echoed in the response header.
 * 5xx log at error, everything else at info. Credentials are redacted by the logger.
 */
export function requestLog(logger: Logger) {
  return pinoHttp({
    logger,
    genReqId(req, res) {
      const id = requestIdFrom(req.headers[HEADERS.requestId]);
      res.setHeader(HEADERS.requestId, id);
      return id;
    },
    // every line of req.log carries `requestId` (the completion line also has req and res)
    customAttributeKeys: { reqId: 'requestId' },
    quietReqLogger: true,
    customLogLevel(_req, res, error) {
      return error || res.statusCode >= 500 ? 'error' : 'info';
    },
  });
}
