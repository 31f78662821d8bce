/** Read filters applied before a read joins an arrival (see arrival.ts for the repetition rules). */

/** Confidence is 0–100; a camera that sends none is trusted (it filtered itself). */
export function meetsConfidence(confidence: number | null, minimum: number): boolean {
  return confidence === null || confidence >= minimum;
}
