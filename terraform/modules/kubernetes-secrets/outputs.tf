output "secret_names" {
  description = "Secret per service (services.<svc>.existingSecret)."
  value       = { for k, s in kubernetes_secret_v1.service : k => s.metadata[0].name }
}
