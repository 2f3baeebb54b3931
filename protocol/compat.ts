/**
 * The output and protocol style (`--compat`). `seed` follows the course project's statement, "the
 * seed" (the default); `course` follows the course's reference code and public tests (docs/DESIGN.md
 * section 2).
 */
export type Compat = 'seed' | 'course';

export const COMPAT_VALUES: readonly Compat[] = ['seed', 'course'];

export function isCompat(value: unknown): value is Compat {
  return value === 'seed' || value === 'course';
}
