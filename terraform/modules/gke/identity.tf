# Google service accounts the services and the External Secrets controller act as
# through Workload Identity (no keys), the Cloud KMS keys that seal auth's signing keys
# and campaign's connector credentials (MARQUEE_*_KEK__PROVIDER=gcp-kms). The secrets
# themselves are in modules/gcp-secrets.

locals {
  # Kubernetes service account (namespace/name) per Google service account.
  workload_identities = {
    auth     = "${var.kubernetes_namespace}/${var.release_name}-auth"
    campaign = "${var.kubernetes_namespace}/${var.release_name}-campaign"
    eso      = "external-secrets/external-secrets"
  }
  kek_keys = {
    auth     = "auth-signing-keys"
    campaign = "campaign-connectors"
  }
}

resource "google_service_account" "workload" {
  for_each = local.workload_identities

  project      = var.project_id
  account_id   = "${var.name}-${each.key}"
  display_name = "Marquee ${each.key} (${var.name})"

  depends_on = [google_project_service.this]
}

resource "google_service_account_iam_member" "workload_identity" {
  for_each = local.workload_identities

  service_account_id = google_service_account.workload[each.key].name
  role               = "roles/iam.workloadIdentityUser"
  member             = "serviceAccount:${var.project_id}.svc.id.goog[${each.value}]"
}

resource "google_kms_crypto_key" "kek" {
  for_each = local.kek_keys

  name            = each.value
  key_ring        = google_kms_key_ring.this.id
  rotation_period = "7776000s" # 90 days; old versions keep opening what they sealed

  lifecycle {
    prevent_destroy = true
  }
}

resource "google_kms_crypto_key_iam_member" "kek" {
  for_each = local.kek_keys

  crypto_key_id = google_kms_crypto_key.kek[each.key].id
  role          = "roles/cloudkms.cryptoKeyEncrypterDecrypter"
  member        = "serviceAccount:${google_service_account.workload[each.key].email}"
}
