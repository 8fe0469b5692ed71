import "./styles.css";
import { render } from "preact";
import { connect } from "./api/client";
import { App } from "./app";
import { loadConfig } from "./config";
import { restore, watchIdle } from "./session";

async function start(): Promise<void> {
  const config = await loadConfig();
  connect(config.api_base);
  await restore(); // a reload keeps this tab's session, if its refresh token still works
  watchIdle(config.idle_timeout_seconds);
  const root = document.getElementById("app");
  if (root) render(<App />, root);
}

void start();
