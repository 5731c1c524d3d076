// Money, dates and months as the NHS style guide writes them. Money is
// integer pence in strings (the API's int64 fields); the arithmetic here is
// on BigInt, never floating point.

const months = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];

/** "512384" → "£5,123.84"; "-150" → "−£1.50"; empty or absent → "£0.00". */
export function pounds(pence: string | undefined): string {
  let p = BigInt(pence && /^-?\d+$/.test(pence) ? pence : "0");
  const negative = p < 0n;
  if (negative) p = -p;
  const whole = (p / 100n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  const frac = (p % 100n).toString().padStart(2, "0");
  return `${negative ? "−" : ""}£${whole}.${frac}`;
}

/**
 * A rate in pounds as the API writes it (a decimal string, exact) with at
 * least the pennies: "27.3" → "£27.30", "26.631" → "£26.631", "27" →
 * "£27.00". Absent is "".
 */
export function poundsRate(rate: string | undefined): string {
  const m = rate ? /^(\d+)(?:\.(\d*))?$/.exec(rate) : null;
  if (!m) return rate ?? "";
  return `£${m[1]}.${(m[2] ?? "").padEnd(2, "0")}`;
}

/** Pence as an editable amount in pounds: "512384" → "5123.84"; "0" → "". */
export function poundsInput(pence: string | undefined): string {
  if (!pence || pence === "0") return "";
  const p = BigInt(pence);
  const sign = p < 0n ? "-" : "";
  const a = p < 0n ? -p : p;
  return `${sign}${a / 100n}.${(a % 100n).toString().padStart(2, "0")}`;
}

/**
 * An amount entered in pounds as pence: "5,123.84", "£5123.8", "5123" →
 * "512384", "512380", "512300". Empty is "0". Anything else is null.
 */
export function parsePounds(input: string): string | null {
  const s = input.trim().replace(/^£/, "").replace(/,(?=\d{3}(\D|$))/g, "");
  if (s === "") return "0";
  const m = /^(\d+)(?:\.(\d{1,2}))?$/.exec(s);
  if (!m) return null;
  const whole = BigInt(m[1] ?? "0");
  const frac = BigInt((m[2] ?? "").padEnd(2, "0"));
  return (whole * 100n + frac).toString();
}

/** "2026-04-01" (or a timestamp) → "1 April 2026". */
export function longDate(date: string | undefined): string {
  if (!date) return "";
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(date);
  if (!m) return date;
  if (date.length > 10) {
    // A timestamp: the day it was in England.
    const d = new Date(date);
    const parts = new Intl.DateTimeFormat("en-GB", { timeZone: "Europe/London", day: "numeric", month: "long", year: "numeric" }).format(d);
    return parts;
  }
  return `${Number(m[3])} ${months[Number(m[2]) - 1]} ${m[1]}`;
}

/** "2026-04" → "April 2026"; a supplementary "2026-04-s1" → "April 2026 (top-up 1)". */
export function monthName(month: string | undefined): string {
  if (!month) return "";
  const m = /^(\d{4})-(\d{2})(?:-s(\d+))?$/.exec(month);
  if (!m) return month;
  return `${months[Number(m[2]) - 1]} ${m[1]}${m[3] ? ` (top-up ${m[3]})` : ""}`;
}

/** Today in England, YYYY-MM-DD. */
export function today(): string {
  return new Intl.DateTimeFormat("en-CA", { timeZone: "Europe/London", year: "numeric", month: "2-digit", day: "2-digit" }).format(new Date());
}

/** The month n months before date's, YYYY-MM. */
export function monthsBefore(date: string, n: number): string {
  const [y, m] = date.split("-").map(Number) as [number, number];
  const index = y * 12 + (m - 1) - n;
  return `${Math.floor(index / 12)}-${String((index % 12) + 1).padStart(2, "0")}`;
}

/** The financial year a month or date is in: "2026-27". */
export function financialYearOf(month: string): string {
  const [y, m] = month.split("-").map(Number) as [number, number];
  const start = m >= 4 ? y : y - 1;
  return `${start}-${String((start + 1) % 100).padStart(2, "0")}`;
}

/** The last segment of a resource name: "pcns/U1/claims/2026-03" → "2026-03". */
export function lastSegment(name: string | undefined): string {
  return (name ?? "").split("/").pop() ?? "";
}

/** "roles/clinical-pharmacist" → "Clinical pharmacist". */
export function roleName(role: string | undefined): string {
  const s = lastSegment(role).replace(/-/g, " ");
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** "STATE_RECRUITING" → "Recruiting"; "FOCUS_COHORT_FRAIL_OLDER_PEOPLE" with prefix "FOCUS_COHORT_" → "Frail older people". */
export function enumLabel(value: string | undefined, prefix = "STATE_"): string {
  const s = (value ?? "").replace(prefix, "").replace(/_/g, " ").toLowerCase();
  return s.charAt(0).toUpperCase() + s.slice(1);
}
