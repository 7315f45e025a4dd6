//! The tenant's taxonomy: the labels AI topic tags are chosen from. Read by anyone in
//! the tenant with `assets:read`; replaced by an admin.

use super::rules;
use crate::AppState;
use crate::clients::for_caller;
use crate::policy::Authenticated;
use crate::validate::{self, JsonObject};
use actix_web::{HttpResponse, get, put, web};
use marquee_platform::{Error, Problem};
use marquee_proto::tagging::v1 as pb;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// One label of a taxonomy.
#[derive(Debug, Serialize, ToSchema)]
pub struct TaxonomyLabelBody {
    /// The tag an asset gets when it matches.
    #[schema(example = "food photography")]
    pub name: String,
    /// What the label covers: assets are matched against this text.
    #[schema(
        example = "Photos of food and cooking: plated dishes, baked goods, fresh ingredients and restaurant meals."
    )]
    pub description: String,
}

impl From<pb::TaxonomyLabel> for TaxonomyLabelBody {
    fn from(label: pb::TaxonomyLabel) -> Self {
        Self {
            name: label.name,
            description: label.description,
        }
    }
}

/// A tenant's taxonomy.
#[derive(Debug, Serialize, ToSchema)]
pub struct TaxonomyBody {
    pub labels: Vec<TaxonomyLabelBody>,
    /// Whether this is the default marketplace taxonomy (the tenant has none of its
    /// own).
    pub is_default: bool,
}

impl From<pb::Taxonomy> for TaxonomyBody {
    fn from(taxonomy: pb::Taxonomy) -> Self {
        Self {
            labels: taxonomy.labels.into_iter().map(Into::into).collect(),
            is_default: taxonomy.is_default,
        }
    }
}

/// One label of a new taxonomy.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTaxonomyLabelBody {
    /// 1 to 50 characters, one line, not blank; stored trimmed and lower-cased, inner
    /// white space collapsed, and unique in the taxonomy (`duplicate_label`).
    #[schema(
        example = "food photography",
        min_length = 1,
        max_length = 50,
        pattern = r"^[^\u0000-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]*$"
    )]
    pub name: String,
    /// 1 to 300 characters, one line, not blank: what the label covers (assets are
    /// matched against it, so say it in plain words).
    #[schema(
        example = "Photos of food and cooking: plated dishes, baked goods, fresh ingredients and restaurant meals.",
        min_length = 1,
        max_length = 300,
        pattern = r"^[^\u0000-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]*$"
    )]
    pub description: String,
}

/// The tenant's new taxonomy, complete.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetTaxonomyBody {
    /// At most 1000 labels; an empty list restores the default taxonomy.
    #[schema(max_items = 1000)]
    pub labels: Vec<NewTaxonomyLabelBody>,
}

/// Checks a new taxonomy with the tagging service's bounds and codes, naming the
/// offending label by its index (never echoing it). Repeated names are the service's
/// to find (`duplicate_label`): it compares them normalised.
pub fn check_labels(labels: &[NewTaxonomyLabelBody]) -> Result<(), Error> {
    if labels.len() > rules::MAX_LABELS {
        return Err(Error::invalid(
            "too_many_labels",
            format!("a taxonomy has at most {} labels", rules::MAX_LABELS),
        ));
    }
    for (index, label) in labels.iter().enumerate() {
        validate::text(&rules::LABEL_NAME, &label.name)
            .and_then(|()| validate::text(&rules::LABEL_DESCRIPTION, &label.description))
            .map_err(|error| {
                Error::invalid(
                    "invalid_label",
                    format!("labels[{index}]: {}", error.message),
                )
            })?;
    }
    Ok(())
}

/// The taxonomy
///
/// Your tenant's labels for AI topic tags: the default marketplace taxonomy until an
/// admin replaces it.
#[utoipa::path(
    tag = "tagging",
    responses((status = 200, description = "The tenant's taxonomy", body = TaxonomyBody)),
)]
#[get("/api/v1/taxonomy")]
pub async fn get_taxonomy(
    state: web::Data<AppState>,
    caller: Authenticated,
) -> Result<HttpResponse, Error> {
    let taxonomy = state
        .tagging
        .grpc()
        .get_taxonomy(for_caller(caller.principal(), pb::GetTaxonomyRequest {}))
        .await?
        .into_inner();
    Ok(HttpResponse::Ok().json(TaxonomyBody::from(taxonomy)))
}

/// Replace the taxonomy
///
/// Your tenant's labels for AI topic tags, complete; an empty list restores the
/// default taxonomy. Assets tagged before keep their tags; tagging from now on uses
/// the new labels. Answers the taxonomy as `GET /api/v1/taxonomy` does.
#[utoipa::path(
    tags = ["tagging", "admin"],
    request_body(
        content = SetTaxonomyBody,
        example = json!({"labels": [{"name": "food photography", "description": "Photos of food and cooking: plated dishes, baked goods and restaurant meals."}]})
    ),
    responses(
        (status = 200, description = "The tenant's new taxonomy", body = TaxonomyBody),
        (status = 400, description = "`too_many_labels`, `invalid_label` (a name or description empty, too long or with control characters), `duplicate_label`, or a malformed body", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[put("/api/v1/admin/taxonomy")]
pub async fn set_taxonomy(
    state: web::Data<AppState>,
    caller: Authenticated,
    body: JsonObject<SetTaxonomyBody>,
) -> Result<HttpResponse, Error> {
    let body = body.into_inner();
    check_labels(&body.labels)?;
    let taxonomy = state
        .tagging
        .grpc()
        .set_taxonomy(for_caller(
            caller.principal(),
            pb::SetTaxonomyRequest {
                labels: body
                    .labels
                    .into_iter()
                    .map(|label| pb::TaxonomyLabel {
                        name: label.name,
                        description: label.description,
                    })
                    .collect(),
            },
        ))
        .await?
        .into_inner();
    Ok(HttpResponse::Ok().json(TaxonomyBody::from(taxonomy)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn label(name: &str, description: &str) -> NewTaxonomyLabelBody {
        NewTaxonomyLabelBody {
            name: name.into(),
            description: description.into(),
        }
    }

    #[test]
    fn taxonomies_are_checked_with_the_services_codes() {
        assert!(check_labels(&[]).is_ok(), "empty restores the default");
        let ok = [
            label("food photography", "Photos of food."),
            label(&"𝔸".repeat(50), &"𝔸".repeat(300)),
            label("\u{202e}odd \u{200d} 😀", "\u{301} اَلْعَرَبِيَّة"),
        ];
        assert!(check_labels(&ok).is_ok());
        let most: Vec<_> = (0..rules::MAX_LABELS)
            .map(|i| label(&format!("l{i}"), "d"))
            .collect();
        assert!(check_labels(&most).is_ok());
        let too_many: Vec<_> = (0..=rules::MAX_LABELS)
            .map(|i| label(&format!("l{i}"), "d"))
            .collect();
        assert_eq!(check_labels(&too_many).unwrap_err().code, "too_many_labels");

        let long = "x".repeat(100_000);
        for bad in [
            label("", "d"),
            label(" ", "d"),
            label(&"𝔸".repeat(51), "d"),
            label(&long, "d"),
            label("a\0", "d"),
            label("a", ""),
            label("a", "  "),
            label("a", &"𝔸".repeat(301)),
            label("a", &long),
            label("a", "line\nbreak"),
            label("a", "nul\0"),
        ] {
            let error = check_labels(&[label("fine", "d"), bad]).unwrap_err();
            assert_eq!(error.code, "invalid_label", "{}", error.message);
            assert_eq!(error.status().as_u16(), 400);
            assert!(
                error.message.starts_with("labels[1]: "),
                "{}",
                error.message
            );
            assert!(error.message.len() < 200, "never echoes: {}", error.message);
        }
    }

    #[test]
    fn bodies_refuse_unknown_fields() {
        assert!(serde_json::from_str::<SetTaxonomyBody>(r#"{"labels": []}"#).is_ok());
        for bad in [
            r#"{"labels": [{"name": "a", "description": "b", "weight": 1}]}"#,
            r#"{"labels": [], "is_default": true}"#,
            r#"{"labels": [{"name": "a"}]}"#,
            r#"{}"#,
        ] {
            assert!(
                serde_json::from_str::<SetTaxonomyBody>(bad).is_err(),
                "{bad}"
            );
        }
    }
}
