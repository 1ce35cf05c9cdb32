// Small DOM and formatting helpers shared by the UI modules.

export function el<T extends HTMLElement>(id: string, type: new () => T): T {
  const e = document.getElementById(id);
  if (!(e instanceof type)) throw new Error(`#${id} missing`);
  return e;
}

export function fmt(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (Number.isInteger(v)) return String(v);
  return Math.abs(v) >= 100 ? v.toFixed(1) : String(Number(v.toPrecision(4)));
}

export function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
