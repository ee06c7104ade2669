import { forwardRef, type RefObject } from 'react';

// The optional "Expires" field of the add, rotate and edit forms: a date and time in the admin's own time
// zone (a datetime-local input), sent to the API as an ISO instant. Whether it lies in the future is the
// API's to say (its message is shown as it is); the page only refuses what is not a date at all.

/** An ISO instant as a datetime-local value, in the reader's time zone (minute precision). */
export function localInputOf(iso: string | null | undefined): string {
  if (!iso) return '';
  const at = new Date(iso);
  const two = (value: number) => String(value).padStart(2, '0');
  return `${at.getFullYear()}-${two(at.getMonth() + 1)}-${two(at.getDate())}T${two(at.getHours())}:${two(at.getMinutes())}`;
}

/** The field's value as the API takes it: null when empty, an ISO instant, or an error to show. */
export function expiryOf(field: RefObject<HTMLInputElement>): { expiresAt: string | null } | string {
  const value = field.current?.value.trim() ?? '';
  if (!value) return { expiresAt: null };
  const at = new Date(value);
  if (Number.isNaN(at.getTime())) return 'Expires: enter a date and a time, or leave it empty for no expiry.';
  return { expiresAt: at.toISOString() };
}

/** The field itself; its ref is what expiryOf reads. */
export const ExpiryField = forwardRef<
  HTMLInputElement,
  { id: string; initial?: string | null; hint: string }
>(function ExpiryField(props, ref) {
  return (
    <div className="field">
      <label htmlFor={props.id}>Expires</label>
      <input
        id={props.id}
        ref={ref}
        type="datetime-local"
        defaultValue={localInputOf(props.initial)}
        aria-describedby={`${props.id}-hint`}
      />
      <p id={`${props.id}-hint`} className="hint">
        {props.hint}
      </p>
    </div>
  );
});
