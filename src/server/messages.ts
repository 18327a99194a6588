import {
  type DisconnectKind,
  type DisconnectMessages,
  type MessagesConfig,
  selectLocale,
} from "../config/mod.ts";

/** Values a message template may reference as `${sni}` and `${error}`. */
export interface MessageVars {
  /** The client's SNI; `""` when it sent none. */
  readonly sni: string;
  /** A short, player-safe failure text (`no backends`); never internal error detail. */
  readonly error: string;
}

/**
 * Player-facing Disconnect texts, merged per locale at load so a connection only does a map
 * lookup (docs/configuration.md §6.2 "Message selection").
 */
export class DisconnectTexts {
  readonly #base: DisconnectMessages;
  readonly #locales: ReadonlyMap<string, DisconnectMessages>;

  /** Merges each locale's overrides over the base texts once, here. */
  constructor(config: MessagesConfig) {
    this.#base = config.disconnect;
    const merged = new Map<string, DisconnectMessages>();
    for (const [locale, overrides] of config.locales) {
      merged.set(locale, { ...config.disconnect, ...overrides });
    }
    this.#locales = merged;
  }

  /** The text for `kind` in the client's `language` (Connect field; `""` when unknown). */
  text(kind: DisconnectKind, language: string, vars: MessageVars): string {
    const texts = selectLocale(this.#locales, language) ?? this.#base;
    return expand(texts[kind], vars);
  }
}

function expand(template: string, vars: MessageVars): string {
  if (!template.includes("${")) return template;
  return template.replaceAll("${sni}", vars.sni).replaceAll("${error}", vars.error);
}
