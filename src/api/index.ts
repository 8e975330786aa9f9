export { checkToken, MIN_TOKEN_LENGTH, TOKEN_ENV } from './auth.js';
export { DEFAULT_MAX_LAG } from './limits.js';
export { type ListRoute, listRoute } from './list-route.js';
export type { ApiDeps, ApiModule } from './module.js';
export { ApiProblem, PROBLEM_CONTENT_TYPE } from './problem.js';
export { ProjectionWorker, type WorkerState } from './projection-worker.js';
export { apiModules } from './routes/index.js';
export { type BuildApiOptions, buildApi } from './server.js';
