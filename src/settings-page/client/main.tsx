import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { SettingsApp } from './settings-app';
import './settings.css';

// The "AI Provider Keys" page: bundled by ../build.js, served by the service at GET /settings.

createRoot(document.getElementById('settings')!).render(
  <StrictMode>
    <SettingsApp />
  </StrictMode>,
);
