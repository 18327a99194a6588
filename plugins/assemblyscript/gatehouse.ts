// Host functions of the `gatehouse` import module. AssemblyScript names a declared function's
// import after its file, so this file must stay named gatehouse.ts.

/** gatehouse.log(level, ptr, len): a UTF-8 log line tagged with the plugin's name. */
export declare function log(level: i32, ptr: usize, len: usize): void;
