import { createTheme } from '@mui/material/styles';

// Light and dark from the system's preference (prefers-color-scheme), through CSS variables so
// the page never flashes the other scheme first.
export const theme = createTheme({
  cssVariables: { colorSchemeSelector: 'media' },
  colorSchemes: { light: true, dark: true },
  components: {
    MuiTableCell: { styleOverrides: { root: { whiteSpace: 'nowrap' } } },
  },
});
