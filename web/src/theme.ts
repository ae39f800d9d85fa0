import { createTheme } from '@mui/material/styles';

// Light and dark from the system's preference (prefers-color-scheme), through CSS variables so
// the page never flashes the other scheme first.
export const theme = createTheme({
  cssVariables: { colorSchemeSelector: 'media' },
  // MUI's light warning (#ed6c02) and info (#0288d1) put white text at 3.1:1 and 3.9:1: below
  // WCAG AA's 4.5:1 for the status chips. Darker shades of the same hues.
  colorSchemes: { light: { palette: { warning: { main: '#b45309' }, info: { main: '#0277bd' } } }, dark: true },
  components: {
    MuiTableCell: { styleOverrides: { root: { whiteSpace: 'nowrap' } } },
  },
});
