/**
 * An in-process store seen as a remote adapter (DynamoDB) presents itself: the same calls and state, without
 * `getNow`, so the decision services take their general path (await get, claim, put, retry on conflict).
 */
import type { BindingStore } from '../../functions/store/binding-store';

export function asRemoteStore<R extends { aor: string }>(store: BindingStore<R>): BindingStore<R> {
  // Calls resolve through the prototype to `store` itself, so spies installed on it still apply.
  return Object.create(store, { getNow: { value: undefined } }) as BindingStore<R>;
}
