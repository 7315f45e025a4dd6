# Content assets: a private, versioned bucket with uniform access, an access-log bucket,
# and a service account the content service uses through Workload Identity (and an HMAC
# key for the S3-compatible XML API that object_store's s3:// URLs speak).

resource "google_storage_bucket" "access_logs" {
  #checkov:skip=CKV_GCP_62:This is the access-log sink itself; logging it into itself would loop.
  project                     = var.project_id
  name                        = "${var.bucket_name}-logs"
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  labels                      = merge(var.labels, { app = "marquee" })

  versioning {
    enabled = true
  }

  lifecycle_rule {
    condition {
      age = 90
    }
    action {
      type = "Delete"
    }
  }
}

resource "google_storage_bucket" "assets" {
  project                     = var.project_id
  name                        = var.bucket_name
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  labels                      = merge(var.labels, { app = "marquee" })

  versioning {
    enabled = true
  }

  logging {
    log_bucket = google_storage_bucket.access_logs.name
  }

  lifecycle_rule {
    condition {
      days_since_noncurrent_time = var.noncurrent_version_days
      with_state                 = "ARCHIVED"
    }
    action {
      type = "Delete"
    }
  }

  lifecycle_rule {
    condition {
      age = 1
    }
    action {
      type = "AbortIncompleteMultipartUpload"
    }
  }

  lifecycle {
    prevent_destroy = true
  }
}

resource "google_service_account" "content" {
  project      = var.project_id
  account_id   = "${var.name}-content"
  display_name = "Marquee content service (${var.name})"

  depends_on = [google_project_service.this]
}

resource "google_storage_bucket_iam_member" "content" {
  bucket = google_storage_bucket.assets.name
  role   = "roles/storage.objectAdmin"
  member = "serviceAccount:${google_service_account.content.email}"
}

# Kubernetes service account <release>-content may act as the Google service account.
resource "google_service_account_iam_member" "content_workload_identity" {
  service_account_id = google_service_account.content.name
  role               = "roles/iam.workloadIdentityUser"
  member             = "serviceAccount:${var.project_id}.svc.id.goog[${var.kubernetes_namespace}/${var.release_name}-content]"
}

resource "google_storage_hmac_key" "content" {
  project               = var.project_id
  service_account_email = google_service_account.content.email
}
