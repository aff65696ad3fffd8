import { render } from 'preact';
import './styles/index.css';
import { boot } from './store/index.js';
import { App } from './ui/App.jsx';

const root = document.getElementById('app');
root.textContent = '';
render(<App />, root);
boot();
