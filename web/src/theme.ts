import { createTheme } from '@mui/material/styles';

// Light and dark from the system's preference (prefers-color-scheme), through CSS variables so
// the page never flashes the other scheme first.
export const theme = createTheme({
  cssVariables: { colorSchemeSelector: 'media' },
  // MUI's light warning (#ed6c02) and info (#0288d1), and its dark error (#f44336), put white text
  // at 3.1, 3.9 and 3.7:1: below WCAG AA's 4.5:1 for the status chips. Other shades of the same
  // hues (the dark error one light enough for black text, 7:1).
  colorSchemes: {
    light: { palette: { warning: { main: '#b45309' }, info: { main: '#0277bd' } } },
    dark: { palette: { error: { main: '#e57373' } } },
  },
  components: {
    MuiTableCell: { styleOverrides: { root: { whiteSpace: 'nowrap' } } },
  },
});
