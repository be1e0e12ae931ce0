/**
 * Error codes with typed details, and the error class generic over them.
 * @module
 */

export {
  type AuthDetails,
  type CatalogueKey,
  CODE_FAMILIES,
  type CodesOf,
  type DetailsOf,
  type ErrorCode,
  errorCodes,
  type ErrorDetails,
  EXACT_CODES,
  type ExactCode,
  type FamilyCode,
  type FamilyKey,
  isErrorCode,
  type StageOf,
} from "./codes.ts";
export { type DetailsArgs, type ErrorDetailsOf, SshError } from "./error.ts";
