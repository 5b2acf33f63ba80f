import './lib/theme'; // first: the chosen theme is on <html> before anything renders
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { boot } from './app';
import { registerServiceWorker } from './lib/pwa';
import './index.css';

void boot();
registerServiceWorker();
createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
