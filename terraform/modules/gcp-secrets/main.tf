# The services' secrets in Secret Manager: one secret per service holding a JSON object
# of its environment variables, replicated in the cluster's region only, readable by the
# External Secrets controller's service account and nobody else it does not grant.

resource "google_secret_manager_secret" "service" {
  for_each = var.secret_ids

  project   = var.project_id
  secret_id = each.value
  labels    = merge(var.labels, { app = "marquee", service = each.key })

  replication {
    user_managed {
      replicas {
        location = var.region
      }
    }
  }
}

resource "google_secret_manager_secret_version" "service" {
  for_each = var.secret_ids

  secret      = google_secret_manager_secret.service[each.key].id
  secret_data = jsonencode(var.service_secrets[each.key])
}

resource "google_secret_manager_secret_iam_member" "reader" {
  for_each = var.secret_ids

  project   = var.project_id
  secret_id = google_secret_manager_secret.service[each.key].secret_id
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${var.reader_service_account}"
}
