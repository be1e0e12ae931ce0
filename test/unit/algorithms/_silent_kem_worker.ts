/**
 * A worker that starts and never answers (for test/unit/algorithms/kem_prefetch_test.ts): the key
 * exchange must then make its own key pair, not wait forever.
 * @module
 */
