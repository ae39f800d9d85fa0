import Typography from '@mui/material/Typography';
import { Link } from 'react-router';
import { PageHeader } from '../components/PageHeader';

export default function NotFound() {
  return (
    <>
      <PageHeader title="Page not found" />
      <Typography>There is no page here. <Link to="/">Back to the overview</Link>.</Typography>
    </>
  );
}
