// Every session of a store, page after page (shared by the index children).

/** @param {import('sessionlog').SessionStore} store @returns {Promise<import('sessionlog').SessionInfo[]>} */
export async function listAll(store) {
  const all = [];
  let cursor;
  do {
    const page = await store.list({ limit: 1000, ...(cursor === undefined ? {} : { cursor }) });
    all.push(...page.sessions);
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  return all;
}
