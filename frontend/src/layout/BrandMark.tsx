/** octo's logo mark (the favicon's octopus), sized in px. */
export function BrandMark({ size = 24 }: { size?: number }) {
  return (
    <svg width={size} height={size} viewBox="0 0 64 64" aria-hidden="true" className="brand-mark">
      <rect width="64" height="64" rx="14" fill="var(--accent)" />
      <circle cx="32" cy="27" r="13" fill="var(--accent-fg)" />
      <g stroke="var(--accent-fg)" strokeWidth="4" strokeLinecap="round" fill="none">
        <path d="M22 38c-4 6-8 8-12 8" />
        <path d="M27 40c-2 7-4 10-7 12" />
        <path d="M37 40c2 7 4 10 7 12" />
        <path d="M42 38c4 6 8 8 12 8" />
      </g>
      <circle cx="27" cy="26" r="2.5" fill="var(--accent)" />
      <circle cx="37" cy="26" r="2.5" fill="var(--accent)" />
    </svg>
  );
}
