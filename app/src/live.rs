//! The browser side of the live streams (Server-Sent Events): the dashboard, the
//! team usage page and the admin usage board all open one with [`connect`].

use leptos::prelude::*;
use send_wrapper::SendWrapper;
use serde::de::DeserializeOwned;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// Opens the stream at `url` and hands each message, read as JSON `T`, to
/// `on_data`; `connected` says whether the stream is open. The browser reconnects
/// by itself when the stream drops; an `end` event (signed out, no longer allowed)
/// closes it for good. The stream closes when the calling component is cleaned up.
pub fn connect<T: DeserializeOwned + 'static>(
    url: &str,
    on_data: impl Fn(T) + 'static,
    connected: RwSignal<bool>,
) {
    let Ok(source) = web_sys::EventSource::new(url) else {
        return;
    };
    let on_message =
        Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |ev: web_sys::MessageEvent| {
            if let Some(text) = ev.data().as_string() {
                match serde_json::from_str::<T>(&text) {
                    Ok(d) => on_data(d),
                    Err(e) => leptos::logging::warn!("ignored a live update: {e}"),
                }
            }
        });
    let on_open = Closure::<dyn FnMut()>::new(move || connected.set(true));
    let on_error = Closure::<dyn FnMut()>::new(move || connected.set(false));
    source.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    source.set_onopen(Some(on_open.as_ref().unchecked_ref()));
    source.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    let closing = source.clone();
    let on_end = Closure::<dyn FnMut()>::new(move || {
        closing.close();
        connected.set(false);
    });
    let _ = source.add_event_listener_with_callback("end", on_end.as_ref().unchecked_ref());
    let held = SendWrapper::new((source, on_message, on_open, on_error, on_end));
    on_cleanup(move || held.0.close());
}
