//! Taxonomies: the labels topic tags are chosen from. Every tenant starts with the
//! default marketplace taxonomy (`data/taxonomy.json`, compiled in); an admin may
//! replace it with the tenant's own.

use super::Tagging;
use super::tagger::EmbeddedTaxonomy;
use super::tags::normalise_name;
use crate::error::{Result, TaggingError};
use crate::store;
use marquee_platform::{Principal, Role};
use serde::Deserialize;
use std::collections::HashSet;
use std::sync::{Arc, LazyLock};

/// Key of the default taxonomy in the embedding cache.
const DEFAULT_KEY: &str = "";

/// Most labels in one taxonomy (each is embedded once per tenant and compared with
/// every asset).
pub const MAX_LABELS: usize = 1000;
pub const MAX_DESCRIPTION_CHARS: usize = 300;

#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct Label {
    pub name: String,
    pub description: String,
}

impl Label {
    /// The text a label is embedded as: zero-shot matching compares an asset with this.
    pub fn prompt(&self) -> String {
        format!("{}: {}", self.name, self.description)
    }
}

/// A tenant's taxonomy and whether it is the default.
#[derive(Clone, Debug, PartialEq)]
pub struct Taxonomy {
    pub labels: Vec<Label>,
    pub is_default: bool,
}

static DEFAULT: LazyLock<Vec<Label>> = LazyLock::new(|| {
    serde_json::from_str(include_str!("../../data/taxonomy.json"))
        .expect("data/taxonomy.json is valid (checked by a test)")
});

/// The default marketplace taxonomy.
pub fn default_labels() -> &'static [Label] {
    &DEFAULT
}

/// Checks and normalises an admin's taxonomy: names as tag names, unique, descriptions
/// present and short.
pub fn validate(labels: Vec<Label>) -> Result<Vec<Label>> {
    if labels.len() > MAX_LABELS {
        return Err(TaggingError::invalid(
            "too_many_labels",
            format!("a taxonomy has at most {MAX_LABELS} labels"),
        ));
    }
    let mut seen = HashSet::new();
    labels
        .into_iter()
        .map(|label| {
            let name = normalise_name(&label.name).ok_or_else(|| {
                TaggingError::invalid("invalid_label", "label names are 1 to 50 printable characters")
            })?;
            let description = label.description.trim().to_string();
            if description.is_empty() || description.chars().count() > MAX_DESCRIPTION_CHARS {
                return Err(TaggingError::invalid(
                    "invalid_label",
                    format!("label \"{name}\" needs a description of 1 to {MAX_DESCRIPTION_CHARS} characters"),
                ));
            }
            if !seen.insert(name.clone()) {
                return Err(TaggingError::invalid(
                    "duplicate_label",
                    format!("label \"{name}\" appears twice"),
                ));
            }
            Ok(Label { name, description })
        })
        .collect()
}

impl Tagging {
    /// The caller's tenant's taxonomy.
    pub async fn taxonomy(&self, caller: &Principal) -> Result<Taxonomy> {
        let own = own_labels(store::taxonomy::labels(&self.db, &caller.tenant_id).await?);
        Ok(if own.is_empty() {
            Taxonomy {
                labels: default_labels().to_vec(),
                is_default: true,
            }
        } else {
            Taxonomy {
                labels: own,
                is_default: false,
            }
        })
    }

    /// Replaces the caller's tenant's taxonomy (admins); none restores the default.
    /// Assets tagged before keep their tags; new tagging uses the new labels.
    pub async fn set_taxonomy(&self, caller: &Principal, labels: Vec<Label>) -> Result<Taxonomy> {
        if !caller.acts_as(Role::Admin) {
            return Err(TaggingError::Forbidden(
                "only an admin may change the taxonomy",
            ));
        }
        let labels = validate(labels)?;
        let txn = marquee_db::begin_write(&self.db).await?;
        let pairs = labels
            .iter()
            .map(|l| (l.name.clone(), l.description.clone()))
            .collect();
        store::taxonomy::replace(&txn, &caller.tenant_id, pairs).await?;
        txn.commit().await?;
        self.taxonomies.lock().remove(&caller.tenant_id);
        self.taxonomy(caller).await
    }

    /// A tenant's taxonomy with its labels embedded (cached until it changes).
    pub(crate) async fn embedded_taxonomy(&self, tenant_id: &str) -> Result<Arc<EmbeddedTaxonomy>> {
        let own = own_labels(store::taxonomy::labels(&self.db, tenant_id).await?);
        let (key, labels) = if own.is_empty() {
            (DEFAULT_KEY, default_labels().to_vec())
        } else {
            (tenant_id, own)
        };
        if let Some(cached) = self.taxonomies.lock().get(key) {
            return Ok(cached.clone());
        }
        let tagger = self.tagger.as_ref().ok_or_else(|| {
            TaggingError::ModelsUnavailable(self.models_off.clone().unwrap_or_default())
        })?;
        let vectors = tagger
            .text
            .embed(labels.iter().map(Label::prompt).collect())
            .await?;
        let embedded = Arc::new(EmbeddedTaxonomy {
            names: labels.into_iter().map(|l| l.name).collect(),
            vectors,
        });
        self.taxonomies
            .lock()
            .insert(key.to_string(), embedded.clone());
        Ok(embedded)
    }
}

fn own_labels(rows: Vec<crate::store::entities::taxonomy_label::Model>) -> Vec<Label> {
    rows.into_iter()
        .map(|row| Label {
            name: row.name,
            description: row.description,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_taxonomy_is_valid_and_large_enough() {
        let labels = default_labels().to_vec();
        assert!(labels.len() >= 100, "{} labels", labels.len());
        assert_eq!(validate(labels.clone()).unwrap(), labels);
    }

    #[test]
    fn admin_taxonomies_are_normalised_and_checked() {
        let label = |name: &str, description: &str| Label {
            name: name.into(),
            description: description.into(),
        };
        let ok = validate(vec![label(" Cats ", "pictures of cats ")]).unwrap();
        assert_eq!(ok, vec![label("cats", "pictures of cats")]);
        assert!(validate(vec![label("cats", "")]).is_err());
        assert!(validate(vec![label("cats", "a"), label("CATS", "b")]).is_err());
        assert!(validate(vec![label("", "a")]).is_err());
    }
}
