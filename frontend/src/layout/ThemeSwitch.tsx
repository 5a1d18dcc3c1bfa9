/** Three-way light / system / dark switch. */
import { type ThemeChoice, useTheme } from "../lib/theme.ts";
import { Icon, type IconName } from "../ui/Icon.tsx";

const OPTIONS: { value: ThemeChoice; icon: IconName; label: string }[] = [
  { value: "light", icon: "sun", label: "Light theme" },
  { value: "system", icon: "monitor", label: "System theme" },
  { value: "dark", icon: "moon", label: "Dark theme" },
];

/** Radio buttons for light, system and dark. */
export function ThemeSwitch() {
  const [choice, setChoice] = useTheme();
  return (
    <div className="theme-switch" role="radiogroup" aria-label="Theme">
      {OPTIONS.map((o) => (
        <button key={o.value} type="button" role="radio" aria-checked={choice === o.value} aria-label={o.label} title={o.label} onClick={() => setChoice(o.value)}>
          <Icon name={o.icon} size={14} />
        </button>
      ))}
    </div>
  );
}
