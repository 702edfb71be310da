//! The invoice table the customer's `/billing` and the admin's invoice list share.

use crate::components::table::DataTable;
use crate::format::date;
use crate::model::billing::InvoiceView;
use leptos::prelude::*;

/// A status badge; an open invoice past due reads "overdue".
#[component]
pub fn InvoiceStatusBadge(status: String, overdue: bool) -> impl IntoView {
    let (label, class) = match (status.as_str(), overdue) {
        (_, true) => ("overdue".to_string(), "bg-red-100 text-red-800"),
        ("paid", _) => (status.clone(), "bg-emerald-100 text-emerald-800"),
        ("open", _) => (status.clone(), "bg-sky-100 text-sky-800"),
        ("uncollectible", _) => (status.clone(), "bg-amber-100 text-amber-900"),
        _ => (status.clone(), "bg-slate-100 text-slate-700"),
    };
    view! { <span class=format!("rounded px-1.5 py-0.5 text-xs font-medium {class}") data-testid="invoice-status">{label}</span> }
}

/// Invoices as a table with a PDF link each, or an empty state. With `admin` the
/// account column and the status actions (mark paid, mark uncollectible, void with
/// a confirmation) appear; `back` is where those actions return to.
#[component]
pub fn InvoiceTable(
    rows: Vec<InvoiceView>,
    #[prop(optional)] admin: bool,
    #[prop(optional)] back: String,
    empty: &'static str,
) -> impl IntoView {
    if rows.is_empty() {
        return view! { <p class="mt-4 rounded-lg border border-dashed border-slate-300 p-4 text-sm text-slate-500" data-testid="no-invoices">{empty}</p> }.into_any();
    }
    let headers: &'static [&'static str] = if admin {
        &[
            "Number", "Account", "Period", "Status", "Total", "Due", "Due date", "",
        ]
    } else {
        &["Number", "Period", "Status", "Total", "Due", "Due date", ""]
    };
    view! {
        <DataTable headers=headers dense=true class="mt-4" testid="invoices">
            {rows.into_iter().map(|i| {
                let back = back.clone();
                view! {
                    <tr data-invoice=i.number.clone() data-status=i.status.clone()>
                        <td class="whitespace-nowrap px-3 py-2 font-mono text-xs">{i.number.clone()}</td>
                        {admin.then(|| view! { <td class="px-3 py-2">{i.account_name.clone()}</td> })}
                        <td class="whitespace-nowrap px-3 py-2 text-slate-600">{i.period.clone()}</td>
                        <td class="px-3 py-2"><InvoiceStatusBadge status=i.status.clone() overdue=i.overdue/></td>
                        <td class="whitespace-nowrap px-3 py-2 text-right tabular-nums" data-testid="invoice-total">{i.total.clone()}</td>
                        <td class="whitespace-nowrap px-3 py-2 text-right tabular-nums">{i.amount_due.clone()}</td>
                        <td class="whitespace-nowrap px-3 py-2 text-slate-600">{i.due_at.map_or("—".to_string(), date)}</td>
                        <td class="whitespace-nowrap px-3 py-2">
                            <a href=format!("/invoices/{}/pdf", i.id) rel="external" class="text-indigo-700 underline hover:text-indigo-900">"PDF"</a>
                            {(admin && i.provider == "manual").then(|| status_actions(&i, back))}
                        </td>
                    </tr>
                }
            }).collect_view()}
        </DataTable>
    }
    .into_any()
}

fn status_form(
    id: String,
    status: &'static str,
    back: String,
    label: &'static str,
    class: &'static str,
) -> impl IntoView {
    view! {
        <form method="post" action="/_fn/admin_invoice_status" class="inline">
            <input type="hidden" name="id" value=id/>
            <input type="hidden" name="status" value=status/>
            <input type="hidden" name="back" value=back/>
            <button type="submit" class=class>{label}</button>
        </form>
    }
}

fn status_actions(i: &InvoiceView, back: String) -> AnyView {
    let id = i.id.to_string();
    let payable = matches!(i.status.as_str(), "open" | "uncollectible");
    let voidable = matches!(i.status.as_str(), "draft" | "open" | "uncollectible");
    let button = "ml-3 text-indigo-700 underline hover:text-indigo-900";
    view! {
        {payable.then(|| status_form(id.clone(), "paid", back.clone(), "Mark paid", button))}
        {(i.status == "open").then(|| status_form(id.clone(), "uncollectible", back.clone(), "Uncollectible", button))}
        {voidable.then(|| view! {
            <details class="ml-3 inline-block">
                <summary class="cursor-pointer text-red-700 hover:underline">"Void…"</summary>
                <div class="mt-1 rounded border border-red-200 bg-red-50 p-2 text-xs">
                    <p>"Void this invoice? Nothing will be owed and credit it used goes back to the balance."</p>
                    {status_form(id.clone(), "void", back.clone(), "Void invoice", "mt-1 rounded bg-red-600 px-2 py-1 font-semibold text-white hover:bg-red-500")}
                </div>
            </details>
        })}
    }
    .into_any()
}
