// Waits for the server that cargo-leptos starts alongside the tests.
export default async function globalSetup() {
  const url = (process.env.SALON_URL ?? 'http://127.0.0.1:3000') + '/healthz';
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    try {
      const response = await fetch(url);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`Salon did not answer at ${url} within 120 s`);
}
