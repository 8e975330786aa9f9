/** Events a projection may lag before /health/ready fails (and `serve --max-lag`'s default). */
export const DEFAULT_MAX_LAG = 1_000;
