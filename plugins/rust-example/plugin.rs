//! Example Gatehouse plugin in Rust (wasm32-wasi cdylib): denies the username "deny"; otherwise
//! sends the player to play.example.com:5520 with referral content "wasm-plugin".
//!
//! Build: plugins/rust-example/build.sh OUT.wasm (Debian: rustc libstd-rust-dev-wasm32; links
//! wasi-libc's crt1-reactor.o so the module exports `_initialize`).
//!
//! It exports no `free`: the symbol would clash with libc's. Instead it releases the request
//! buffer itself once parsed and the previous response at the next call.

use std::alloc::{alloc as raw_alloc, dealloc, Layout};
use std::cell::RefCell;

fn layout(len: u32) -> Layout {
    Layout::from_size_align(len.max(1) as usize, 1).expect("layout")
}

/// Buffer for the request, written by the host.
#[no_mangle]
pub extern "C" fn alloc(len: u32) -> u32 {
    unsafe { raw_alloc(layout(len)) as u32 }
}

thread_local! {
    static LAST_RESPONSE: RefCell<Vec<u8>> = RefCell::new(Vec::new());
}

const DENY: &str = r#"{"deny":true,"deny_reason":"denied by wasm plugin"}"#;
// "d2FzbS1wbHVnaW4=" is base64 of "wasm-plugin".
const ROUTE: &str =
    r#"{"backend":{"host":"play.example.com","port":5520},"referral_content":"d2FzbS1wbHVnaW4="}"#;

/// Whether the string value of key "username" equals `want` (a scanner, not a JSON parser:
/// enough for the one field the example needs).
fn username_is(json: &[u8], want: &[u8]) -> bool {
    let key = b"\"username\"";
    let ws = |b: &u8| matches!(b, b' ' | b'\t' | b'\n' | b'\r');
    for start in 0..json.len().saturating_sub(key.len() - 1) {
        if &json[start..start + key.len()] != key {
            continue;
        }
        let mut rest = json[start + key.len()..].iter().skip_while(|b| ws(b));
        if rest.next() != Some(&b':') {
            continue;
        }
        let mut value = rest.skip_while(|b| ws(b));
        if value.next() != Some(&b'"') {
            return false;
        }
        let s: Vec<u8> = value.take_while(|b| **b != b'"').copied().collect();
        return s == want;
    }
    false
}

/// The plugin: request JSON at (ptr, len) in, packed (ptr << 32 | len) response out.
#[no_mangle]
pub extern "C" fn on_connect(ptr: u32, len: u32) -> u64 {
    let deny = {
        let request = unsafe { std::slice::from_raw_parts(ptr as *const u8, len as usize) };
        username_is(request, b"deny")
    };
    unsafe { dealloc(ptr as *mut u8, layout(len)) };
    let answer = if deny { DENY } else { ROUTE };
    LAST_RESPONSE.with(|last| {
        let mut last = last.borrow_mut();
        *last = answer.as_bytes().to_vec();
        ((last.as_ptr() as u64) << 32) | last.len() as u64
    })
}
