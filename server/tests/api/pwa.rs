//! The installable app: the manifest and the service worker's script.

use crate::support::TestServer;
use reqwest::StatusCode;

#[tokio::test]
async fn the_manifest_describes_an_installable_app_in_the_readers_language() {
    let server = TestServer::start().await;
    let client = &server.browser().client;
    let get = |language: &'static str, cookie: &'static str| {
        client
            .get(server.url("/manifest.webmanifest"))
            .header("accept-language", language)
            .header("cookie", cookie)
            .send()
    };
    let english = get("en-US", "").await.unwrap();
    assert_eq!(english.status(), StatusCode::OK);
    assert_eq!(english.headers()["content-type"], "application/manifest+json");
    assert_eq!(english.headers()["cache-control"], "no-cache");
    let manifest: serde_json::Value = english.json().await.unwrap();
    assert_eq!(manifest["display"], "standalone");
    assert_eq!(manifest["start_url"], "/");
    assert_eq!(manifest["scope"], "/");
    assert_eq!(manifest["lang"], "en");
    let icons = manifest["icons"].as_array().unwrap();
    for (size, purpose) in [("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")] {
        let icon = icons.iter().find(|i| i["sizes"] == size && i["purpose"] == purpose);
        let src = icon.unwrap_or_else(|| panic!("a {purpose} icon of {size}"))["src"].as_str().unwrap();
        assert!(src.ends_with(".png"), "{src}");
    }
    let shortcuts: Vec<&str> =
        manifest["shortcuts"].as_array().unwrap().iter().map(|s| s["url"].as_str().unwrap()).collect();
    assert_eq!(shortcuts, ["/", "/friends"]);
    assert_eq!(manifest["shortcuts"][1]["name"], "Friends");

    let french: serde_json::Value = get("fr-FR,fr;q=0.9", "").await.unwrap().json().await.unwrap();
    assert_eq!(french["lang"], "fr");
    assert_eq!(french["shortcuts"][1]["name"], "Amis");
    assert_ne!(french["description"], manifest["description"]);
    let chosen: serde_json::Value = get("fr", "lang=en").await.unwrap().json().await.unwrap();
    assert_eq!(chosen["lang"], "en", "the remembered choice wins");
}

/// The release a served worker script names.
async fn release_served(server: &TestServer) -> (String, String) {
    let response = reqwest::get(server.url("/sw.js")).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/javascript"));
    assert_eq!(response.headers()["cache-control"], "no-cache", "found again at every launch");
    let policy = response.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert_eq!(policy, "default-src 'self'", "the worker may fetch from this site only");
    let script = response.text().await.unwrap();
    let release = script.split("const RELEASE = \"").nth(1).and_then(|rest| rest.split('"').next()).unwrap();
    (release.to_owned(), script)
}

#[tokio::test]
async fn the_service_worker_keeps_the_built_files_and_changes_with_them() {
    let site = tempfile::tempdir().unwrap();
    let pkg = site.path().join("pkg");
    std::fs::create_dir_all(pkg.join("snippets")).unwrap();
    std::fs::write(pkg.join("salon.js"), "export {};").unwrap();
    std::fs::write(pkg.join("salon.js.br"), "compressed").unwrap();
    std::fs::write(pkg.join("salon_bg.wasm"), "wasm").unwrap();
    std::fs::write(pkg.join("snippets").join("inline0.js"), "export {};").unwrap();
    let root = site.path().to_path_buf();
    let server = TestServer::start_configured(move |config| config.site_root = root).await;
    let (release, script) = release_served(&server).await;
    for file in ["/pkg/salon.js", "/pkg/salon_bg.wasm", "/pkg/snippets/inline0.js", "/icons/icon-192.png"] {
        assert!(script.contains(&format!("\"{file}\"")), "{file} is kept offline");
    }
    assert!(!script.contains(".br\""), "compressed copies are served in place of the files");
    assert!(!script.contains("__"), "every blank is filled");
    server.stop().await;

    // Another build: another release, which browsers install.
    std::fs::write(pkg.join("salon_bg.wasm"), "new wasm").unwrap();
    let root = site.path().to_path_buf();
    let rebuilt = TestServer::start_configured(move |config| config.site_root = root).await;
    let (new_release, _) = release_served(&rebuilt).await;
    assert_ne!(release, new_release);
}
