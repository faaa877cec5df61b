/** The login page: only where KASSA_ADMIN_TOKEN is configured (docs/dashboard.md). */
import { html, type SafeHtml } from '../customer/html.ts';

export function loginBody(next: string, error?: string): SafeHtml {
  return html`${error ? html`<p class="error" role="alert">${error}</p>` : ''}
<form class="card login" method="post" action="/dashboard/login">
<input type="hidden" name="next" value="${next}">
<label for="token">Admin token (KASSA_ADMIN_TOKEN)</label>
<input id="token" name="token" type="password" autocomplete="current-password" required>
<p><button type="submit">Open the dashboard</button></p>
</form>`;
}
