//! Form pieces that show a server function's field errors and refill what was
//! typed, with and without JavaScript.

use crate::error::AppError;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;

/// The action's latest error, if its last run failed.
pub fn action_error<S>(action: ServerAction<S>) -> Signal<Option<AppError>>
where
    S: ServerFn<Error = AppError> + Clone + Send + Sync + 'static,
    S::Output: Clone + Send + Sync + 'static,
{
    Signal::derive(move || action.value().get().and_then(Result::err))
}

/// The message for `field` in `error`.
pub fn field_error(error: Signal<Option<AppError>>, field: &'static str) -> Signal<Option<String>> {
    Signal::derive(move || {
        error
            .get()
            .and_then(|e| e.form().and_then(|f| f.fields.get(field).cloned()))
    })
}

/// What was typed into `field` before a failed submit (from the error), else
/// `fallback`.
pub fn kept_value(
    error: Signal<Option<AppError>>,
    field: &str,
    fallback: Option<String>,
) -> Option<String> {
    error
        .get_untracked()
        .and_then(|e| e.form().and_then(|f| f.values.get(field).cloned()))
        .or(fallback)
}

/// A labelled input with its error underneath.
#[component]
pub fn Field(
    /// Visible label.
    label: &'static str,
    /// Form field name (the server function's argument).
    name: &'static str,
    /// Input type.
    #[prop(default = "text")]
    kind: &'static str,
    /// Autocomplete hint.
    #[prop(default = "off")]
    autocomplete: &'static str,
    /// Initial value.
    #[prop(optional)]
    value: Option<String>,
    /// Help under the input.
    #[prop(optional)]
    hint: &'static str,
    /// Minimum length, if any.
    #[prop(optional)]
    minlength: Option<u32>,
    /// The field's error.
    error: Signal<Option<String>>,
) -> impl IntoView {
    let id = format!("field-{name}");
    let error_id = format!("{id}-error");
    let invalid = move || error.get().is_some();
    view! {
        <div class="space-y-1">
            <label for=id.clone() class="block text-sm font-medium text-slate-700">{label}</label>
            <input
                id=id
                name=name
                type=kind
                required=true
                minlength=minlength
                autocomplete=autocomplete
                value=value
                aria-invalid=move || invalid().to_string()
                aria-describedby=error_id.clone()
                class=move || {
                    format!(
                        "block w-full rounded-md border px-3 py-2 text-sm shadow-sm focus:outline-none focus:ring-2 {}",
                        if invalid() { "border-red-400 focus:ring-red-500" } else { "border-slate-300 focus:ring-indigo-500" },
                    )
                }
            />
            {(!hint.is_empty()).then(|| view! { <p class="text-xs text-slate-500">{hint}</p> })}
            <p id=error_id class="text-sm text-red-700" role="alert">
                {move || error.get()}
            </p>
        </div>
    }
}

/// The form-level error, if any (field errors show at their fields).
#[component]
pub fn FormAlert(error: Signal<Option<AppError>>) -> impl IntoView {
    let message = move || {
        error.get().and_then(|e| match &e {
            AppError::Form(f) => f.message.clone(),
            other => Some(other.to_string()),
        })
    };
    view! {
        <Show when=move || message().is_some()>
            <div class="rounded-md border border-red-200 bg-red-50 px-4 py-3 text-sm text-red-800" role="alert">
                {message}
            </div>
        </Show>
    }
}

/// A submit button that shows progress while the action runs.
#[component]
pub fn Submit<S>(
    /// The form's action.
    action: ServerAction<S>,
    /// Label.
    label: &'static str,
    /// Label while submitting.
    busy: &'static str,
    /// Extra classes.
    #[prop(default = "bg-indigo-600 hover:bg-indigo-500 text-white")]
    class: &'static str,
) -> impl IntoView
where
    S: ServerFn<Error = AppError> + Clone + Send + Sync + 'static,
    S::Output: Clone + Send + Sync + 'static,
{
    let pending = action.pending();
    view! {
        <button
            type="submit"
            disabled=move || pending.get()
            aria-busy=move || pending.get().to_string()
            class=format!("inline-flex w-full justify-center rounded-md px-4 py-2 text-sm font-semibold shadow-sm focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500 disabled:opacity-60 {class}")
        >
            {move || if pending.get() { busy } else { label }}
        </button>
    }
}

/// A narrow centred card with a heading: the frame of the sign-up, log-in and
/// password pages.
pub fn card(title: &'static str, body: impl IntoView) -> impl IntoView {
    view! {
        <div class="mx-auto max-w-md rounded-lg border border-slate-200 bg-white p-6 shadow-sm">
            <h1 class="text-xl font-bold">{title}</h1>
            {body}
        </div>
    }
}
