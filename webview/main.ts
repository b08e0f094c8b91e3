// Inspector panel entry (implementation in progress).
export {};
