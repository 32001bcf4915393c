//! The WebSocket's client-frame parser: any text either fails to parse or
//! gives a frame that encodes and parses back to itself; nothing panics.
#![no_main]

use app::domain::protocol::{ClientFrame, MAX_CLIENT_FRAME};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.len() > MAX_CLIENT_FRAME {
        return;
    }
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(frame) = ClientFrame::parse(text) {
        let encoded = serde_json::to_string(&frame).expect("a frame encodes");
        assert_eq!(ClientFrame::parse(&encoded).expect("and parses back"), frame);
    }
});
