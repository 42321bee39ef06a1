/**
 * The bottom layer: one error type, one catalogue of wire codes, one body shape. Imports
 * nothing else from Boka (docs/adr/0008-layers.md).
 */
export { AppError, appError } from './app-error.js';
export { ERROR_CATALOGUE, type ErrorCode } from './catalogue.js';
export { buildErrorBody, toErrorBody, type ErrorBody } from './error-body.js';
