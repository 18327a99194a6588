/**
 * How a client's language picks a locale, for every player-facing text: the Disconnect messages
 * (docs/configuration.md §6.2 "Message selection") and the maintenance message.
 *
 * @module
 */

/** A locale key as configured or sent, normalised: trimmed, lower case, `_` as `-`. */
export function localeKey(text: string): string {
  return text.trim().toLowerCase().replaceAll("_", "-");
}

/**
 * The entry of `locales` (keys normalised by {@link localeKey}) for a client's `language`: the
 * exact locale (`pt-BR` → `pt-br`), else its base language (`pt`), else `undefined` (the base
 * text applies). `""` (language unknown) gives `undefined`.
 */
export function selectLocale<T>(locales: ReadonlyMap<string, T>, language: string): T | undefined {
  if (language === "" || locales.size === 0) return undefined;
  const key = language.replaceAll("_", "-").toLowerCase();
  const exact = locales.get(key);
  if (exact !== undefined) return exact;
  const dash = key.indexOf("-");
  return dash > 0 ? locales.get(key.slice(0, dash)) : undefined;
}
