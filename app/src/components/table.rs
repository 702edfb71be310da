//! The bordered data table that every list page shares.

use leptos::prelude::*;

/// A table with a header row of `headers` and `children` as its body rows. An
/// empty header is an actions column, named only for screen readers. `dense` gives
/// the narrower cells of the admin lists; `class` adds classes to the outer frame
/// (margins); `testid` names the `<table>` for tests.
#[component]
pub fn DataTable(
    headers: &'static [&'static str],
    #[prop(optional)] dense: bool,
    #[prop(optional)] class: &'static str,
    #[prop(optional)] testid: Option<&'static str>,
    children: Children,
) -> impl IntoView {
    let cell = if dense { "px-3 py-2" } else { "px-4 py-2" };
    let heads = headers
        .iter()
        .map(|h| {
            if h.is_empty() {
                view! { <th scope="col" class=cell><span class="sr-only">"Actions"</span></th> }
                    .into_any()
            } else {
                view! { <th scope="col" class=cell>{*h}</th> }.into_any()
            }
        })
        .collect_view();
    view! {
        <div tabindex="0" class=format!("overflow-x-auto rounded-lg border border-slate-200 bg-white {class}")>
            <table class="min-w-full divide-y divide-slate-200 text-sm" data-testid=testid>
                <thead class="bg-slate-50 text-left">
                    <tr>{heads}</tr>
                </thead>
                <tbody class="divide-y divide-slate-100">{children()}</tbody>
            </table>
        </div>
    }
}
