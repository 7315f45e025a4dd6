output "secret_ids" {
  description = "Secret Manager secret ID per service."
  value       = { for k, s in google_secret_manager_secret.service : k => s.secret_id }
}
