//! `#[derive(FromRow)]` for `dbapi` (re-exported there with its `derive` feature): a struct
//! read from a row of a result, its fields by column name, or a tuple struct by position.
//!
//! ```ignore
//! #[derive(dbapi::FromRow)]
//! struct Reading {
//!     sensor: String,
//!     #[dbapi(rename = "temp")]
//!     temperature: Option<f64>, // NULL is None
//!     #[dbapi(default)]
//!     note: String, // absent from the result: String::default()
//! }
//! ```
//!
//! Field attributes: `#[dbapi(rename = "column")]` reads another column than the field's
//! name; `#[dbapi(default)]` takes `Default::default()` when the result has no such column.

use proc_macro::TokenStream;
use proc_macro2::Span;
use quote::{format_ident, quote};
use syn::{Data, DeriveInput, Fields, LitStr, parse_macro_input};

/// Derives `dbapi::FromRow`; see the crate documentation.
#[proc_macro_derive(FromRow, attributes(dbapi))]
pub fn derive_from_row(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    expand(&input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// What the attributes of one field say.
#[derive(Default)]
struct FieldAttrs {
    rename: Option<LitStr>,
    default: bool,
}

fn field_attrs(field: &syn::Field) -> syn::Result<FieldAttrs> {
    let mut attrs = FieldAttrs::default();
    for attr in field.attrs.iter().filter(|a| a.path().is_ident("dbapi")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("rename") {
                attrs.rename = Some(meta.value()?.parse()?);
                Ok(())
            } else if meta.path.is_ident("default") {
                attrs.default = true;
                Ok(())
            } else {
                Err(meta.error("unknown dbapi attribute: expected `rename = \"...\"` or `default`"))
            }
        })?;
    }
    Ok(attrs)
}

fn expand(input: &DeriveInput) -> syn::Result<proc_macro2::TokenStream> {
    let name = &input.ident;
    if !input.generics.params.is_empty() {
        return Err(syn::Error::new_spanned(
            &input.generics,
            "FromRow cannot be derived for a type with generic or lifetime parameters: \
             its fields own their values",
        ));
    }
    let Data::Struct(data) = &input.data else {
        return Err(syn::Error::new(
            Span::call_site(),
            "FromRow can only be derived for structs (fields by column name) and tuple \
             structs (fields by position)",
        ));
    };
    // The plan; one row read from a `RowRef`; the columns of a batch; one row read from them.
    let (plan, body, columns, batch_body) = match &data.fields {
        Fields::Named(fields) => {
            let mut plan = Vec::new();
            let mut values = Vec::new();
            let mut columns = Vec::new();
            let mut batch_values = Vec::new();
            for (i, field) in fields.named.iter().enumerate() {
                let attrs = field_attrs(field)?;
                let Some(ident) = field.ident.as_ref() else {
                    return Err(syn::Error::new_spanned(
                        field,
                        "a named field without a name",
                    ));
                };
                let field_name = ident.to_string();
                let field_name = field_name.trim_start_matches("r#");
                let column = attrs
                    .rename
                    .map(|lit| lit.value())
                    .unwrap_or_else(|| field_name.to_owned());
                let ty = &field.ty;
                let column_var = format_ident!("__dbapi_column_{}", i);
                if attrs.default {
                    columns.push(quote! { let #column_var = batch.optional_field(#i); });
                    batch_values.push(quote! {
                        #ident: match #column_var {
                            ::std::option::Option::Some(column) => column.read::<#ty>(index, #field_name)?,
                            ::std::option::Option::None => ::std::default::Default::default(),
                        }
                    });
                    plan.push(quote! { ::dbapi::from_row::find(columns, #column) });
                    values.push(quote! {
                        #ident: if row.has(#i) {
                            row.planned::<#ty>(#i, #field_name)?
                        } else {
                            ::std::default::Default::default()
                        }
                    });
                } else {
                    columns.push(quote! { let #column_var = batch.field(#i, #field_name)?; });
                    batch_values.push(quote! {
                        #ident: #column_var.read::<#ty>(index, #field_name)?
                    });
                    plan.push(quote! {
                        ::std::option::Option::Some(::dbapi::from_row::require(columns, #column, #field_name)?)
                    });
                    values.push(quote! {
                        #ident: row.planned::<#ty>(#i, #field_name)?
                    });
                }
            }
            (
                quote! {
                    ::std::result::Result::Ok(::dbapi::from_row::Plan::new(::std::vec![#(#plan),*]))
                },
                quote! { #name { #(#values),* } },
                quote! { #(#columns)* },
                quote! { #name { #(#batch_values),* } },
            )
        }
        Fields::Unnamed(fields) => {
            let n = fields.unnamed.len();
            let mut values = Vec::new();
            let mut columns = Vec::new();
            let mut batch_values = Vec::new();
            for (i, field) in fields.unnamed.iter().enumerate() {
                let attrs = field_attrs(field)?;
                if attrs.rename.is_some() || attrs.default {
                    return Err(syn::Error::new_spanned(
                        field,
                        "fields of a tuple struct are read by position: `rename` and \
                         `default` apply to named fields",
                    ));
                }
                let ty = &field.ty;
                let label = i.to_string();
                values.push(quote! { row.planned::<#ty>(#i, #label)? });
                let column_var = format_ident!("__dbapi_column_{}", i);
                columns.push(quote! { let #column_var = batch.field(#i, #label)?; });
                batch_values.push(quote! { #column_var.read::<#ty>(index, #label)? });
            }
            (
                quote! { ::dbapi::from_row::positions(columns, #n) },
                quote! { #name(#(#values),*) },
                quote! { #(#columns)* },
                quote! { #name(#(#batch_values),*) },
            )
        }
        Fields::Unit => {
            return Err(syn::Error::new(
                Span::call_site(),
                "FromRow cannot be derived for a unit struct: it reads no column",
            ));
        }
    };
    Ok(quote! {
        impl ::dbapi::FromRow for #name {
            fn plan(columns: &[::dbapi::Column]) -> ::dbapi::Result<::dbapi::from_row::Plan> {
                #plan
            }

            fn from_row(row: ::dbapi::from_row::RowRef<'_>, _plan: &::dbapi::from_row::Plan) -> ::dbapi::Result<Self> {
                ::std::result::Result::Ok(#body)
            }

            fn read_rows(
                batch: ::dbapi::from_row::BatchRef<'_>,
                out: &mut ::std::vec::Vec<Self>,
            ) -> ::dbapi::Result<()> {
                #columns
                out.reserve(batch.len());
                for index in 0..batch.len() {
                    out.push(#batch_body);
                }
                ::std::result::Result::Ok(())
            }
        }
    })
}
