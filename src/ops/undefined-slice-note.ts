/**
 * What a slice with no probability vector (every logit −inf, a NaN or +inf logit) becomes in an op
 * whose output is per element (softmax, log_softmax): NaN there in both methods, as in PyTorch.
 */
export function undefinedSliceNote(forwardName: string): (note: { readonly slice: string; readonly reason: string }, cause: string) => string {
  return (note, cause) =>
    note.reason === 'all-masked'
      ? `slice x${note.slice} ${cause}: its ${forwardName} is undefined, and both methods give NaN there, as PyTorch does`
      : `slice x${note.slice} ${cause}: the whole slice is NaN in both methods, as in PyTorch`;
}
